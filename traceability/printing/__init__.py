"""Printing: stamps in, print-ready bytes out (PDF sheets and label rolls, CSV, SVG/PNG archives).

Entry points: sheets.write_pdf (PDF/X-4 sheets), printerfiles.write_csv, write_zip and write_hidden_codes;
stock.resolve_layout turns a stored layout name (named, gLabels product or custom size) into label stock, and
sizing.plan_label places the code on it in whole printer dots; qrbatch.encode_batch encodes a batch of QR codes.
Nothing is re-exported here, so that worker processes importing pagebuild do not pay for fontTools.subset.

The QR encoder, layouts and PDF writer are pure (values and bytes in, bytes out); services, jobs, the
`batch print` command and the print pages (views.py, shared by the portal and the office) sit around them.
May import: stamps, registry, audit and the shared modules; never verification or an audience package.
"""
