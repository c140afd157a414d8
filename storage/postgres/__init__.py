"""PostgreSQL storage (DATABASE_URL=postgresql://...): psycopg 3 connections shaped like aiosqlite's, so one set of
storage modules serves both backends; what SQL differs lives in storage/dialect.py."""
