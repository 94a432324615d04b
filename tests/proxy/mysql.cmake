# MySQL inspector: hand-built edge cases and recordings from a real MariaDB (tests/data/mysql).
sg_add_qtest(tst_mysqlinspector SOURCES tst_mysqlinspector.cpp)
target_compile_definitions(tst_mysqlinspector PRIVATE SG_TEST_DATA_DIR="${CMAKE_SOURCE_DIR}/tests/data")
