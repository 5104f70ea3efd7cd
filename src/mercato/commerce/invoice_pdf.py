"""An invoice as a PDF: the same facts as the invoice page (seller, buyer, lines, totals, payments, balance due),
drawn with fpdf2 (pure Python, no browser, no system fonts).

fpdf2's built-in Helvetica covers Latin-1 only, so text is folded to it (a dash for an em dash, ``?`` for what
Latin-1 lacks); the numbers and names the PDF must carry are ASCII in practice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fpdf import FPDF

from mercato import pricing
from mercato.commerce.schemas import InvoiceOut

_FOLD = str.maketrans({"—": "-", "–": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "→": "->"})


@dataclass(frozen=True)
class InvoiceDocument:
    """What an invoice shows, page or PDF: the presented invoice and the two parties' names."""

    invoice: InvoiceOut
    seller: str
    buyer: str
    buyer_email: str = ""
    buyer_country: str = ""


def _text(value: object) -> str:
    return str(value).translate(_FOLD).encode("latin-1", "replace").decode("latin-1")


def _money(document: InvoiceDocument, amount: Decimal) -> str:
    return _text(pricing.format_money(amount, document.invoice.currency))


def invoice_pdf(document: InvoiceDocument) -> bytes:
    invoice = document.invoice
    pdf = FPDF(format="A4")
    pdf.set_title(_text(f"Invoice {invoice.number}"))
    pdf.set_author(_text(document.seller))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(width, 10, _text(f"Invoice {invoice.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    facts = [
        f"Status: {invoice.status}",
        f"Issued: {invoice.issued_on.isoformat()}    Due: {invoice.due_on.isoformat()}",
    ]
    if invoice.po_number:
        facts.append(f"Purchase order: {invoice.po_number}")
    for fact in facts:
        pdf.cell(width, 6, _text(fact), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    half = width / 2
    top = pdf.get_y()
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(half, 6, "Seller", new_x="RIGHT", new_y="TOP")
    pdf.cell(half, 6, "Bill to", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(half, 5, _text(document.seller), new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(pdf.l_margin + half, top + 6)
    buyer = "\n".join(part for part in (document.buyer, document.buyer_email, document.buyer_country) if part)
    pdf.multi_cell(half, 5, _text(buyer), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    pdf.set_font("Helvetica", "B", 10)
    columns = (10, width - 10 - 50 - 30, 50, 30)
    for label, column_width in zip(("#", "Description", "Period", "Amount"), columns, strict=True):
        pdf.cell(column_width, 7, label, border="B", align="R" if label == "Amount" else "L")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for line in invoice.lines:
        period = f"{line.period_start.isoformat()} to {line.period_end.isoformat()}"
        description = line.description + (" (refunded)" if line.refunded else "")
        if line.license:
            description += f" [{line.license}]"
        y = pdf.get_y()
        pdf.cell(columns[0], 5, str(line.position))
        pdf.multi_cell(columns[1], 5, _text(description), new_x="RIGHT", new_y="TOP")
        end = pdf.get_y()
        pdf.set_xy(pdf.l_margin + columns[0] + columns[1], y)
        pdf.cell(columns[2], 5, period)
        pdf.cell(columns[3], 5, _money(document, line.amount), align="R")
        lowest = max(end, y + 5)
        pdf.set_y(lowest + 2)
    pdf.ln(2)

    pdf.set_font("Helvetica", "", 10)
    totals = [("Total", invoice.total), ("Paid", invoice.amount_paid)]
    if invoice.amount_refunded:
        totals.append(("Refunded", invoice.amount_refunded))
    totals.append(("Balance due", invoice.amount_due))
    for label, amount in totals:
        pdf.set_font("Helvetica", "B" if label in ("Total", "Balance due") else "", 10)
        pdf.cell(width - 40, 6, label, align="R")
        pdf.cell(40, 6, _money(document, amount), align="R", new_x="LMARGIN", new_y="NEXT")

    if invoice.payments:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(width, 7, "Payments", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        for payment in invoice.payments:
            method = payment.provider.replace("_", " ")
            pdf.cell(
                width - 40, 5, _text(f"{payment.received_on.isoformat()}  {method}  {payment.reference}")
            )
            pdf.cell(40, 5, _money(document, payment.amount), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
