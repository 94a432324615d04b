# MySQL-aware connections: the handshake and command-header inspector.
target_sources(streamgate_core PRIVATE mysqlinspector.h mysqlinspector.cpp)
