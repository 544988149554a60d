from hub.core.tokens import derive_token, hash_token, new_nonce


def test_tokens_repeat_per_nonce_and_differ_by_purpose(app):
    nonce = new_nonce()
    token = derive_token("invitation", nonce)
    assert token == derive_token("invitation", nonce)
    assert token != derive_token("feed", nonce)
    assert token != derive_token("invitation", new_nonce())
    assert len(token) == 43 and "=" not in token
    assert hash_token(token) != token and len(hash_token(token)) == 64
