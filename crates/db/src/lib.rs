//! Database layer: diesel models, embedded migrations and typed repositories over SQLite or PostgreSQL.
