"""One module per file format; each turns a file into validated `Question`s or stops at the first bad row."""
