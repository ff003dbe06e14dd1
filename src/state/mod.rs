//! The persistent state store: sources, targets, migrations and copied files in one SQLite file.
