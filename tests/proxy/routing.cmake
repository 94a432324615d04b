# Matching, plugins, balancing and health checks (core/proxy/{addressmatch,router,plugins/,admission,balancer,healthchecker}).
sg_add_qtest(tst_addressmatch SOURCES tst_addressmatch.cpp)
sg_add_qtest(tst_router SOURCES tst_router.cpp)
sg_add_qtest(tst_plugins SOURCES tst_plugins.cpp)
# The admission pipeline: one plugin registration for TCP and UDP, priority order, log phase.
sg_add_qtest(tst_admission SOURCES tst_admission.cpp TIMEOUT 60)
sg_add_qtest(tst_balancer SOURCES tst_balancer.cpp)
sg_add_qtest(tst_healthchecker SOURCES tst_healthchecker.cpp TIMEOUT 60)
