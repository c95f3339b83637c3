// SQLite (Debian: libsqlite3-dev): the embedded database behind the embedding cache.
#include <sqlite3.h>
// SQLITE_TRANSIENT is a macro Swift cannot import: it is the destructor value (-1).
static inline sqlite3_destructor_type clip_sqlite_transient(void) { return SQLITE_TRANSIENT; }
