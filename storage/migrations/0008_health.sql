-- One row the health check writes (GET /healthz): proof the database takes writes right now.
CREATE TABLE health (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at TEXT NOT NULL
);
