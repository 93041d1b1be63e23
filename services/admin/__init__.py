"""Administration: dead-lettered messages and their replay."""
