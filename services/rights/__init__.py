"""The data subject's rights the DPO carries out: erasure (Art. 17), restriction (Art. 18) and the
person's own data as structured JSON (Art. 20); rectification (Art. 16) is elsewhere."""
