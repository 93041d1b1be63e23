"""Cases: one or more persons a case manager works with, open → archived → erased (issue 17)."""
