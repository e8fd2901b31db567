//! Pure key and certificate functions (no I/O, no protocol types).
