"""The live board: sections, posts, reactions and comments, live over Socket.IO."""
