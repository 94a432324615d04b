# MySQL inspector: hand-built edge cases and recordings from a real MariaDB (tests/data/mysql).
sg_add_qtest(tst_mysqlinspector SOURCES tst_mysqlinspector.cpp)
target_compile_definitions(tst_mysqlinspector PRIVATE SG_TEST_DATA_DIR="${CMAKE_SOURCE_DIR}/tests/data")

# The inspector on the engine's relay, replaying the same recordings through a live session.
sg_add_qtest(tst_engine_mysql SOURCES tst_engine_mysql.cpp TIMEOUT 60)
target_compile_definitions(tst_engine_mysql PRIVATE SG_TEST_DATA_DIR="${CMAKE_SOURCE_DIR}/tests/data")
