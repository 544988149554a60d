"""The files to download and fill in: a CSV header row and an XLSX workbook."""

from __future__ import annotations

import codecs
import io
from collections.abc import Sequence

from hub.directory.importing.columns import TEMPLATE_HEADERS

CATEGORY_CHOICES_RU = ("без категории", "первая", "высшая", "педагог-методист",
                       "педагог-наставник")


def template_csv() -> bytes:
    """The header row as Russian Excel opens it: UTF-8 with BOM, `;` between columns."""
    return codecs.BOM_UTF8 + (";".join(TEMPLATE_HEADERS) + "\r\n").encode("utf-8")


def template_xlsx(organisation_names: Sequence[str] = ()) -> bytes:
    """A workbook with the header row, a category list, and the organisations on a second
    sheet (the import reads only the first one)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Педагоги"
    sheet.append(list(TEMPLATE_HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEF", (36, 34, 26, 30, 18, 20), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    categories = DataValidation(type="list", formula1='"' + ",".join(CATEGORY_CHOICES_RU) + '"',
                                allow_blank=True)
    sheet.add_data_validation(categories)
    categories.add("F2:F5000")
    for column in ("E",):  # phones stay text: Excel would drop the + and turn 8… into a number
        for row in range(2, 502):
            sheet[f"{column}{row}"].number_format = "@"
    if organisation_names:
        orgs = workbook.create_sheet("Организации")
        orgs.append(["Организация"])
        orgs["A1"].font = Font(bold=True)
        orgs.column_dimensions["A"].width = 60
        for name in organisation_names:
            orgs.append([name])
            orgs.cell(orgs.max_row, 1).data_type = "s"  # a name like "=1+1" is text, not a formula
        choice = DataValidation(type="list",
                                formula1=f"'Организации'!$A$2:$A${len(organisation_names) + 1}",
                                allow_blank=True)
        sheet.add_data_validation(choice)
        choice.add("B2:B5000")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
