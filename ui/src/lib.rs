//! The RAIF Workbench terminal application (filled by the TUI issue).
