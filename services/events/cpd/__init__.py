"""What a member keeps of the events service: calendar feed secrets and CPD evidence
(certificate tokens, the certificate and record documents).

`keys` derives and checks the secrets (HMAC with secrets derived from the node's
signing key); `documents` renders certificates and records (PDF with fpdf2, QR codes
with segno, CSV). Nothing here reads a store: the application and the web pages hand
them what they show.
"""
