// OpenSSL's libcrypto (Debian: libssl-dev), for SHA-256 fingerprints of images and weights.
#include <openssl/evp.h>
#include <openssl/sha.h>
