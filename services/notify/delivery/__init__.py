"""How a notification becomes an e-mail and leaves the node.

- `compose`: just before sending, decides on the current state whether to send,
  skip or wait, and builds the MIME message;
- `rendering` and `templates/`: every e-mail's subject, text and HTML;
- `ics`: the iCalendar invitation a convening's e-mails carry;
- `transport`: SMTP, or `.eml` files when no mail server is set.
The dispatcher (`services.notify.dispatcher`) runs them.
"""
