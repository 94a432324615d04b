// Built only by the layers test: the same kind of source, including its own layer's header,
// builds (so the refusal above is about the layer, not a broken probe).
#include "stats/snapshot.h"
