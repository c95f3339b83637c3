// libcsv (Debian: libcsv-dev): an RFC 4180 streaming CSV parser.
#include <stddef.h>
#include <csv.h>
