// Built only by the layers_refuse_upward_include test: a source of the stats layer that includes
// a header of the proxy layer above it must not build.
#include "proxy/engine.h"
