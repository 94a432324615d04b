// The libpq client behind extended_copy.conv, discard_all.conv and pipeline_100.conv (see
// README.md): cc -I/usr/include/postgresql libpq_client.c -lpq, then
//   ./a.out "host=127.0.0.1 port=... sslmode=disable gssencmode=disable" copy|discard|pipeline N
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static void check(PGresult* r, ExecStatusType want, const char* what)
{
    if (PQresultStatus(r) != want) {
        fprintf(stderr, "%s: %s %s\n", what, PQresStatus(PQresultStatus(r)),
                PQresultErrorMessage(r));
    }
}
int main(int argc, char** argv)
{
    PGconn* c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "%s", PQerrorMessage(c));
        return 1;
    }
    const char* mode = argv[2];
    PGresult* r;
    if (!strcmp(mode, "copy")) {
        r = PQexec(c, "CREATE TEMP TABLE t (id int, name text)");
        check(r, PGRES_COMMAND_OK, "create");
        PQclear(r);
        // COPY FROM STDIN through the extended protocol: Parse/Bind/Describe/Execute/Sync,
        // then CopyData, CopyDone and a second Sync.
        r = PQexecParams(c, "COPY t FROM STDIN", 0, NULL, NULL, NULL, NULL, 0);
        check(r, PGRES_COPY_IN, "copy in");
        PQclear(r);
        PQputCopyData(c, "1\tone\n", 6);
        PQputCopyData(c, "2\ttwo\n", 6);
        PQputCopyData(c, "3\tthree\n", 8);
        PQputCopyEnd(c, NULL);
        r = PQgetResult(c);
        check(r, PGRES_COMMAND_OK, "copy in end");
        PQclear(r);
        r = PQgetResult(c);
        if (r)
            fprintf(stderr, "extra result\n");
        // The client gives up: CopyFail, then Sync.
        r = PQexecParams(c, "COPY t FROM STDIN", 0, NULL, NULL, NULL, NULL, 0);
        check(r, PGRES_COPY_IN, "copy in 2");
        PQclear(r);
        PQputCopyData(c, "4\tfour\n", 7);
        PQputCopyEnd(c, "cancelled by the client");
        r = PQgetResult(c);
        check(r, PGRES_FATAL_ERROR, "copy fail");
        PQclear(r);
        r = PQgetResult(c);
        if (r)
            fprintf(stderr, "extra result 2\n");
        // COPY TO STDOUT through the extended protocol.
        r = PQexecParams(c, "COPY t TO STDOUT", 0, NULL, NULL, NULL, NULL, 0);
        check(r, PGRES_COPY_OUT, "copy out");
        PQclear(r);
        char* buf;
        int n;
        while ((n = PQgetCopyData(c, &buf, 0)) > 0)
            PQfreemem(buf);
        r = PQgetResult(c);
        check(r, PGRES_COMMAND_OK, "copy out end");
        PQclear(r);
        r = PQgetResult(c);
        if (r)
            fprintf(stderr, "extra result 3\n");
        // Then an ordinary extended query, which must pair with its own answers.
        r = PQexecParams(c, "SELECT count(*) FROM t", 0, NULL, NULL, NULL, NULL, 0);
        check(r, PGRES_TUPLES_OK, "count");
        printf("rows: %s\n", PQgetvalue(r, 0, 0));
        PQclear(r);
    } else if (!strcmp(mode, "discard")) {
        r = PQprepare(c, "s1", "SELECT $1::int + 1", 1, NULL);
        check(r, PGRES_COMMAND_OK, "prepare");
        PQclear(r);
        const char* v[1] = {"41"};
        r = PQexecPrepared(c, "s1", 1, v, NULL, NULL, 0);
        check(r, PGRES_TUPLES_OK, "exec");
        PQclear(r);
        r = PQexec(c, "DISCARD ALL");
        check(r, PGRES_COMMAND_OK, "discard");
        PQclear(r);
        r = PQexecPrepared(c, "s1", 1, v, NULL, NULL, 0);
        check(r, PGRES_FATAL_ERROR, "exec after discard");
        PQclear(r);
        r = PQprepare(c, "s1", "SELECT $1::int * 2", 1, NULL);
        check(r, PGRES_COMMAND_OK, "prepare 2");
        PQclear(r);
        r = PQexecPrepared(c, "s1", 1, v, NULL, NULL, 0);
        check(r, PGRES_TUPLES_OK, "exec 2");
        PQclear(r);
        r = PQexec(c, "DEALLOCATE ALL");
        check(r, PGRES_COMMAND_OK, "deallocate");
        PQclear(r);
        r = PQexecPrepared(c, "s1", 1, v, NULL, NULL, 0);
        check(r, PGRES_FATAL_ERROR, "exec after deallocate");
        PQclear(r);
    } else if (!strcmp(mode, "pipeline")) {
        int n = atoi(argv[3]);
        PQenterPipelineMode(c);
        for (int i = 0; i < n; ++i) {
            char sql[64], val[16];
            snprintf(sql, sizeof sql, "SELECT $1::int + %d", i);
            snprintf(val, sizeof val, "%d", i);
            const char* v[1] = {val};
            if (!PQsendQueryParams(c, sql, 1, NULL, v, NULL, NULL, 0)) {
                fprintf(stderr, "send %d\n", i);
                return 1;
            }
        }
        PQpipelineSync(c);
        int got = 0;
        for (;;) {
            r = PQgetResult(c);
            if (!r)
                continue;
            ExecStatusType s = PQresultStatus(r);
            PQclear(r);
            if (s == PGRES_PIPELINE_SYNC)
                break;
            if (s == PGRES_TUPLES_OK)
                ++got;
        }
        PQexitPipelineMode(c);
        printf("pipeline results: %d\n", got);
    }
    PQfinish(c);
    return 0;
}
