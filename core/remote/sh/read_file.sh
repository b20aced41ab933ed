# A file's text; fails when it cannot be read. Args: the file.
cat -- "$1"
