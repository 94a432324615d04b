# MySQL-aware connections: the handshake and command-header inspector.
target_sources(streamgate_proxy PRIVATE mysqlinspector.h mysqlinspector.cpp
    mysqlfilter.h mysqlfilter.cpp)
