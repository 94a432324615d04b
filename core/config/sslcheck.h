#pragma once
// What APISIX's check_ssl_conf checks of an ssl object beyond its schema, with OpenSSL: the
// certificate (and each of certs) parses as PEM, the private key (and each of keys) parses and
// matches its certificate, client.ca parses. A problem names the field and why, and never
// carries a private key's text. Expired certificates are warnings (APISIX stores them too).

#include "config/configstore.h"

namespace sg {

// Problems and warnings of one ssl object at `path` ("ssls[0]").
void checkSsl(const Ssl& ssl, const QString& path, ConfigCheck& check);
// Every ssl of the config, and how they fit its listeners and routes: a TLS listener without
// an enabled server certificate, a route sni no TLS listener can ever see.
void checkSsls(const Config& config, ConfigCheck& check);

} // namespace sg
