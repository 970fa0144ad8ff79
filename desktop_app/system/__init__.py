"""What the operating system offers the app: drives, shares. Qt-free and testable off Windows."""
