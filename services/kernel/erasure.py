"""What an erased member's personal fields read as, everywhere on the node."""

ERASED_NAME = "Erased member"
