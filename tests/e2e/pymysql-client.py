#!/usr/bin/python3
"""PyMySQL (Debian's python3-pymysql) through a Streamgate route, for tst_mysqle2e.

usage: pymysql-client.py HOST PORT USER PASSWORD DATABASE MODE
  digests  a fixed workload: a table, three rows in one executemany, three SELECTs with a
           parameter, an INSERT that meets a duplicate key; prints what the client saw as JSON
  connect  opens a connection; prints {"errno": 0} or the server's refusal (errno, message)
"""
import json
import sys

import pymysql


def connect(host, port, user, password, database):
    return pymysql.connect(host=host, port=int(port), user=user, password=password,
                           database=database, autocommit=True, connect_timeout=10,
                           read_timeout=30)


def digests(conn):
    seen = {"selected": [], "duplicate_errno": 0}
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS sg_pymysql (id INT PRIMARY KEY, v VARCHAR(20))")
        cur.execute("DELETE FROM sg_pymysql")
        # PyMySQL sends an executemany INSERT as one statement with a row per parameter set.
        seen["inserted"] = cur.executemany("INSERT INTO sg_pymysql VALUES (%s, %s)",
                                           [(1, "a"), (2, "b"), (3, "c")])
        for key in (1, 2, 3):
            cur.execute("SELECT v FROM sg_pymysql WHERE id = %s", (key,))
            seen["selected"] += [row[0] for row in cur.fetchall()]
        try:
            cur.execute("INSERT INTO sg_pymysql VALUES (%s, %s)", (1, "again"))
        except pymysql.err.IntegrityError as e:
            seen["duplicate_errno"] = e.args[0]
    return seen


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    host, port, user, password, database, mode = sys.argv[1:]
    if mode == "connect":
        try:
            connect(host, port, user, password, database).close()
            print(json.dumps({"errno": 0}))
        except pymysql.err.OperationalError as e:
            print(json.dumps({"errno": e.args[0], "message": e.args[1]}))
        return
    conn = connect(host, port, user, password, database)
    try:
        print(json.dumps(digests(conn)))
    finally:
        conn.close()


if __name__ == "__main__":
    main()
