//! The PostgreSQL server restarting under a running `work`.
