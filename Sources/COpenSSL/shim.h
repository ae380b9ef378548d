// OpenSSL's libcrypto (Debian libssl-dev): only the EVP message-digest interface, for SHA-256.
#include <openssl/evp.h>
