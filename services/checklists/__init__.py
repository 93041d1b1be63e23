"""Pre-checked cases: versioned procedure checklists and a pure pre-check (advice, never a decision).

* ``model``: checklist templates (YAML in ``data/``), validated at load;
* ``catalogue``: all versions, which one is current on a date, publishing a new version;
* ``precheck``: which items apply, what is open;
* ``hints``: hints derived from the case facts;
* ``sniff``: media type of an uploaded document from its content.
"""
