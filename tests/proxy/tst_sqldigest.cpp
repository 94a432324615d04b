// digestStatement: the text each rule gives (literals, IN lists, VALUES rows, comments,
// spacing), statements that must share a digest and statements that must not, the cut at
// maxText on a UTF-8 boundary, the FNV-1a hash and its hex form, idempotence (on every row
// here and on random token soup), and inputs no statement should look like; the same for
// PostgreSQL's dialect where its lexical rules differ.

#include "proxy/sqldigest.h"

#include <QTest>
#include <random>
#include <string>
#include <string_view>

using namespace sg;

namespace {

std::string_view view(const QByteArray& bytes)
{
    return {bytes.constData(), std::size_t(bytes.size())};
}

QByteArray digestText(const QByteArray& sql, std::size_t maxText = kMaxDigestText)
{
    const std::string text = digestStatement(view(sql), maxText).text;
    return QByteArray(text.data(), qsizetype(text.size()));
}

// The reference FNV-1a 64 the digest hash must equal.
quint64 fnv1a64(std::string_view text)
{
    quint64 h = 14695981039346656037ULL;
    for (char c : text) {
        h ^= quint64(static_cast<unsigned char>(c));
        h *= 1099511628211ULL;
    }
    return h;
}

bool validUtf8(const QByteArray& bytes)
{
    return QString::fromUtf8(bytes).toUtf8() == bytes;
}

} // namespace

class TestSqlDigest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void text_data();
    void text();
    void sameDigest_data();
    void sameDigest();
    void differentDigest_data();
    void differentDigest();
    void cutAtMaxText_data();
    void cutAtMaxText();
    void cutIsPrefixOfFullText();
    void hashAndHex();
    void oddInputs_data();
    void oddInputs();
    void postgresText_data();
    void postgresText();
    void postgresSameDigest();
    void postgresLinearOnOperatorRuns();
    void idempotentOnRandomSoup();
    void hugeInputFolds();
};

void TestSqlDigest::text_data()
{
    QTest::addColumn<QByteArray>("sql");
    QTest::addColumn<QByteArray>("expected");

    // Literals
    QTest::newRow("integer") << QByteArray("SELECT * FROM t WHERE id=1")
                             << QByteArray("SELECT * FROM t WHERE id = ?");
    QTest::newRow("decimal and exponent") << QByteArray("SELECT 1.5, 2e10, 3.25E-3, .5, 1.e5, 7.")
                                          << QByteArray("SELECT ?, ?, ?, ?, ?, ?");
    QTest::newRow("hex and bit numbers")
        << QByteArray("SELECT 0x1F, 0XAB, 0b101, 0B11") << QByteArray("SELECT ?, ?, ?, ?");
    QTest::newRow("hex and bit strings")
        << QByteArray("SELECT X'1F', x'ab', b'101', B'0'") << QByteArray("SELECT ?, ?, ?, ?");
    QTest::newRow("national string") << QByteArray("SELECT N'abc'") << QByteArray("SELECT ?");
    QTest::newRow("single quoted")
        << QByteArray("SELECT 'a', 'it''s', 'a\\'b', 'c\\\\'") << QByteArray("SELECT ?, ?, ?, ?");
    QTest::newRow("double quoted") << QByteArray("SELECT \"a\", \"say \"\"hi\"\"\", \"x\\\"y\"")
                                   << QByteArray("SELECT ?, ?, ?");
    QTest::newRow("quote of the other kind inside")
        << QByteArray("SELECT 'a\"b', \"c'd\"") << QByteArray("SELECT ?, ?");
    QTest::newRow("comment markers in a string")
        << QByteArray("SELECT '-- no', '/* no */', '# no'") << QByteArray("SELECT ?, ?, ?");
    QTest::newRow("charset introducer")
        << QByteArray("SELECT _utf8mb4'x'") << QByteArray("SELECT _utf8mb4 ?");
    QTest::newRow("placeholder stays") << QByteArray("SELECT * FROM t WHERE a = ? AND b=?")
                                       << QByteArray("SELECT * FROM t WHERE a = ? AND b = ?");
    QTest::newRow("null true false kept")
        << QByteArray("SELECT NULL, true, False FROM t WHERE a IS NULL")
        << QByteArray("SELECT NULL, true, False FROM t WHERE a IS NULL");
    QTest::newRow("digits in names") << QByteArray("SELECT t1.col_2, c3 FROM t1 JOIN t2")
                                     << QByteArray("SELECT t1.col_2, c3 FROM t1 JOIN t2");
    QTest::newRow("name starting with digits")
        << QByteArray("SELECT 1abc, 2e5x FROM 3t") << QByteArray("SELECT 1abc, 2e5x FROM 3t");
    QTest::newRow("number then alias") << QByteArray("SELECT 1.5abc") << QByteArray("SELECT ? abc");
    QTest::newRow("qualified numeric part")
        << QByteArray("SELECT t.5 FROM t") << QByteArray("SELECT t.? FROM t");

    // Signs
    QTest::newRow("sign after operator") << QByteArray("SELECT * FROM t WHERE a=-1 OR b>+2.5")
                                         << QByteArray("SELECT * FROM t WHERE a = ? OR b > ?");
    QTest::newRow("sign after keyword")
        << QByteArray("SELECT -1, - 2") << QByteArray("SELECT ?, ?");
    QTest::newRow("sign after paren")
        << QByteArray("SELECT ABS(-5)") << QByteArray("SELECT ABS(?)");
    QTest::newRow("signs in a row") << QByteArray("SELECT - -1, -+-2") << QByteArray("SELECT ?, ?");
    QTest::newRow("sign before a string") << QByteArray("SELECT -'1'") << QByteArray("SELECT ?");
    QTest::newRow("minus after a name is binary")
        << QByteArray("SELECT a-1, a -1, a - 1 FROM t")
        << QByteArray("SELECT a - ?, a - ?, a - ? FROM t");
    QTest::newRow("minus after a literal is binary")
        << QByteArray("SELECT 3-1, (2)-1") << QByteArray("SELECT ? - ?, (?) - ?");
    QTest::newRow("unary minus on a name kept")
        << QByteArray("SELECT -a, -(1)") << QByteArray("SELECT - a, - (?)");
    QTest::newRow("signed exponent")
        << QByteArray("SELECT 1e-5, 1E+5") << QByteArray("SELECT ?, ?");

    // Names
    QTest::newRow("backtick names verbatim")
        << QByteArray("SELECT `a b`, `x``y`, `1` FROM `db`.`t 1` WHERE `c`=1")
        << QByteArray("SELECT `a b`, `x``y`, `1` FROM `db`.`t 1` WHERE `c` = ?");
    QTest::newRow("variables verbatim")
        << QByteArray("SET @a=1, @@session.sql_mode='x', @'b c'=2")
        << QByteArray("SET @a = ?, @@session.sql_mode = ?, @'b c' = ?");
    QTest::newRow("utf-8 names") << QByteArray("SELECT prénom FROM café WHERE 名前='x'")
                                 << QByteArray("SELECT prénom FROM café WHERE 名前 = ?");

    // IN lists
    QTest::newRow("in list") << QByteArray("SELECT * FROM t WHERE id IN (1,2,3) AND name = 'x'")
                             << QByteArray("SELECT * FROM t WHERE id IN (...) AND name = ?");
    QTest::newRow("in one item") << QByteArray("SELECT * FROM t WHERE id in ( 'a' )")
                                 << QByteArray("SELECT * FROM t WHERE id in (...)");
    QTest::newRow("not in with signs") << QByteArray("DELETE FROM t WHERE id NOT IN(-1, +2, ?)")
                                       << QByteArray("DELETE FROM t WHERE id NOT IN (...)");
    QTest::newRow("in with null kept") << QByteArray("SELECT 1 FROM t WHERE a IN (1, NULL)")
                                       << QByteArray("SELECT ? FROM t WHERE a IN (?, NULL)");
    QTest::newRow("in with a column kept") << QByteArray("SELECT 1 FROM t WHERE 5 IN (a,b)")
                                           << QByteArray("SELECT ? FROM t WHERE ? IN (a, b)");
    QTest::newRow("in subquery kept")
        << QByteArray("SELECT 1 FROM t WHERE a IN (SELECT b FROM u WHERE c=2)")
        << QByteArray("SELECT ? FROM t WHERE a IN (SELECT b FROM u WHERE c = ?)");
    QTest::newRow("in tuples kept")
        << QByteArray("SELECT 1 FROM t WHERE (a,b) IN ((1,2),(3,4))")
        << QByteArray("SELECT ? FROM t WHERE (a, b) IN ((?, ?), (?, ?))");
    QTest::newRow("in list inside in subquery")
        << QByteArray("SELECT 1 FROM t WHERE a IN (SELECT b FROM u WHERE c IN (1,2))")
        << QByteArray("SELECT ? FROM t WHERE a IN (SELECT b FROM u WHERE c IN (...))");
    QTest::newRow("empty in list kept") << QByteArray("SELECT 1 FROM t WHERE a IN ()")
                                        << QByteArray("SELECT ? FROM t WHERE a IN ()");
    QTest::newRow("in list missing an item kept")
        << QByteArray("SELECT 1 WHERE a IN (1,)") << QByteArray("SELECT ? WHERE a IN (?,)");

    // VALUES rows
    QTest::newRow("values one row") << QByteArray("INSERT INTO t (a, b) VALUES (1, 'x')")
                                    << QByteArray("INSERT INTO t(a, b) VALUES (?, ?)");
    QTest::newRow("values rows folded")
        << QByteArray("INSERT INTO t(a,b) VALUES(1,'x'),(2,'y'),(3,'z')")
        << QByteArray("INSERT INTO t(a, b) VALUES (?, ?), ...");
    QTest::newRow("values rows of any shape folded")
        << QByteArray("INSERT INTO t VALUES (1, NOW()), (2, (SELECT 1)), (3, DEFAULT)")
        << QByteArray("INSERT INTO t VALUES (?, NOW()), ...");
    QTest::newRow("values then on duplicate key")
        << QByteArray("INSERT INTO t VALUES (1,2),(3,4) ON DUPLICATE KEY UPDATE b=VALUES(b), c=1")
        << QByteArray("INSERT INTO t VALUES (?, ?), ... ON DUPLICATE KEY UPDATE b = VALUES (b), "
                      "c = ?");
    QTest::newRow("value synonym")
        << QByteArray("INSERT INTO t VALUE (1), (2)") << QByteArray("INSERT INTO t VALUE(?), ...");
    QTest::newRow("values row with in list")
        << QByteArray("INSERT INTO t VALUES ((SELECT a FROM u WHERE b IN (1,2)), 3), (4, 5)")
        << QByteArray("INSERT INTO t VALUES ((SELECT a FROM u WHERE b IN (...)), ?), ...");
    QTest::newRow("values row then a comma and no row")
        << QByteArray("INSERT INTO t VALUES (1), -2") << QByteArray("INSERT INTO t VALUES (?), ?");
    QTest::newRow("values cut after a comma")
        << QByteArray("INSERT INTO t VALUES (1),") << QByteArray("INSERT INTO t VALUES (?),");
    QTest::newRow("values cut inside a folded row")
        << QByteArray("INSERT INTO t VALUES (1), (2, 'abc")
        << QByteArray("INSERT INTO t VALUES (?), ...");

    // Comments and whitespace
    QTest::newRow("dash comment") << QByteArray("SELECT 1 -- the one\nFROM t")
                                  << QByteArray("SELECT ? FROM t");
    QTest::newRow("dash comment with tab")
        << QByteArray("SELECT 1 --\tx\nFROM t") << QByteArray("SELECT ? FROM t");
    QTest::newRow("dash comment at the end") << QByteArray("SELECT 1 --") << QByteArray("SELECT ?");
    QTest::newRow("double minus is no comment")
        << QByteArray("SELECT 5--1") << QByteArray("SELECT ? - ?");
    QTest::newRow("hash comment") << QByteArray("SELECT a # pick a\r\nFROM t")
                                  << QByteArray("SELECT a FROM t");
    QTest::newRow("block comment")
        << QByteArray("SELECT/* hint */a/**/FROM/*+ x */t") << QByteArray("SELECT a FROM t");
    QTest::newRow("executable comment dropped")
        << QByteArray("SELECT /*!40001 SQL_NO_CACHE */ 1") << QByteArray("SELECT ?");
    QTest::newRow("unterminated block comment")
        << QByteArray("SELECT 1 /* never closed") << QByteArray("SELECT ?");
    QTest::newRow("whitespace folded") << QByteArray("  \t SELECT\r\n  a ,b\t,  c\n\nFROM   t  ")
                                       << QByteArray("SELECT a, b, c FROM t");
    QTest::newRow("no space inside parens") << QByteArray("SELECT COUNT( * ) FROM t WHERE ( a=1 )")
                                            << QByteArray("SELECT COUNT(*) FROM t WHERE (a = ?)");
    QTest::newRow("function call joined")
        << QByteArray("SELECT IFNULL (a, 0), NOW ( )") << QByteArray("SELECT IFNULL(a, ?), NOW()");
    QTest::newRow("keyword before paren spaced")
        << QByteArray("SELECT * FROM(SELECT 1)x WHERE EXISTS(SELECT 2)AND(a)")
        << QByteArray("SELECT * FROM (SELECT ?) x WHERE EXISTS (SELECT ?) AND (a)");
    QTest::newRow("dots joined") << QByteArray("SELECT t . a, t.* FROM db . t")
                                 << QByteArray("SELECT t.a, t.* FROM db.t");
    QTest::newRow("operators spaced")
        << QByteArray("SELECT a<=>b, a<>b, a!=b, a>=1, j->>'$.x'")
        << QByteArray("SELECT a <=> b, a <> b, a != b, a >= ?, j ->> ?");
    QTest::newRow("assignment") << QByteArray("SET @x:=5") << QByteArray("SET @x := ?");
    QTest::newRow("brackets are no quotes")
        << QByteArray("SELECT a[1], [b c] FROM t WHERE x = [2]")
        << QByteArray("SELECT a [ ? ], [ b c ] FROM t WHERE x = [ ? ]");
    QTest::newRow("trailing semicolons dropped")
        << QByteArray("SELECT 1 ; ; \n") << QByteArray("SELECT ?");
    QTest::newRow("inner semicolon kept")
        << QByteArray("SELECT 1;SELECT 2;") << QByteArray("SELECT ?; SELECT ?");
    QTest::newRow("case kept") << QByteArray("select  *  from t where id = 42")
                               << QByteArray("select * from t where id = ?");

    // Odd but possible
    QTest::newRow("empty") << QByteArray() << QByteArray();
    QTest::newRow("only whitespace") << QByteArray(" \t\r\n ") << QByteArray();
    QTest::newRow("only a comment") << QByteArray("/* nothing */ -- at all") << QByteArray();
    QTest::newRow("only a semicolon") << QByteArray(";") << QByteArray();
    QTest::newRow("unterminated string") << QByteArray("SELECT * FROM t WHERE a = 'abc")
                                         << QByteArray("SELECT * FROM t WHERE a = ?");
    QTest::newRow("string ending in a backslash")
        << QByteArray("SELECT 'abc\\") << QByteArray("SELECT ?");
    QTest::newRow("unterminated backtick verbatim")
        << QByteArray("SELECT `a  b") << QByteArray("SELECT `a  b");
    QTest::newRow("nul bytes") << QByteArray("SELECT 1\0, 'a\0b'", 16)
                               << QByteArray("SELECT ? \0, ?", 13);
    QTest::newRow("ellipsis kept") << QByteArray("SELECT a ... b") << QByteArray("SELECT a ... b");
    QTest::newRow("dots") << QByteArray("SELECT a..b, ....") << QByteArray("SELECT a. .b, ... .");
    QTest::newRow("dot before a name starting with digits")
        << QByteArray("SELECT t.1abc") << QByteArray("SELECT t. 1abc");
}

void TestSqlDigest::text()
{
    QFETCH(QByteArray, sql);
    QFETCH(QByteArray, expected);

    const StatementDigest digest = digestStatement(view(sql));
    QCOMPARE(QByteArray::fromStdString(digest.text), expected);
    QCOMPARE(digest.hash, fnv1a64(digest.text));
    // The digest text is itself a statement with the same digest.
    QCOMPARE(digestStatement(digest.text), digest);
}

void TestSqlDigest::sameDigest_data()
{
    QTest::addColumn<QByteArray>("a");
    QTest::addColumn<QByteArray>("b");

    QTest::newRow("literals and spacing") << QByteArray("SELECT * FROM t WHERE id=1")
                                          << QByteArray("SELECT  *  FROM t WHERE id = 42");
    QTest::newRow("string vs number literal") << QByteArray("SELECT * FROM t WHERE a = 'x'")
                                              << QByteArray("SELECT * FROM t WHERE a = -3.5e2");
    QTest::newRow("comments") << QByteArray("SELECT a /* why */ FROM t -- done")
                              << QByteArray("SELECT a\nFROM t # done");
    QTest::newRow("in list lengths") << QByteArray("SELECT * FROM t WHERE id IN (1)")
                                     << QByteArray("SELECT * FROM t WHERE id IN (1, 2, 3, 4, 5)");
    QTest::newRow("values row counts") << QByteArray("INSERT INTO t VALUES (1,2),(3,4)")
                                       << QByteArray("INSERT INTO t VALUES (5,6),(7,8),(9,0)");
    QTest::newRow("function spacing")
        << QByteArray("SELECT COUNT(*) FROM t") << QByteArray("SELECT COUNT ( * ) FROM t");
    QTest::newRow("trailing semicolon") << QByteArray("SELECT 1;") << QByteArray("SELECT 2");
    QTest::newRow("prepared vs literal") << QByteArray("UPDATE t SET a = ? WHERE id = ?")
                                         << QByteArray("UPDATE t SET a = 'v' WHERE id = 7");
}

void TestSqlDigest::sameDigest()
{
    QFETCH(QByteArray, a);
    QFETCH(QByteArray, b);

    const StatementDigest da = digestStatement(view(a));
    const StatementDigest db = digestStatement(view(b));
    QCOMPARE(QByteArray::fromStdString(da.text), QByteArray::fromStdString(db.text));
    QCOMPARE(digestHex(da.hash), digestHex(db.hash));
}

void TestSqlDigest::differentDigest_data()
{
    QTest::addColumn<QByteArray>("a");
    QTest::addColumn<QByteArray>("b");

    QTest::newRow("keyword case") << QByteArray("SELECT * FROM t WHERE id=1")
                                  << QByteArray("select * from t where id = 42");
    QTest::newRow("other table") << QByteArray("SELECT * FROM t1")
                                 << QByteArray("SELECT * FROM t2");
    QTest::newRow("other column") << QByteArray("SELECT a FROM t") << QByteArray("SELECT b FROM t");
    QTest::newRow("more conditions") << QByteArray("SELECT a FROM t WHERE a = 1")
                                     << QByteArray("SELECT a FROM t WHERE a = 1 AND b = 2");
    QTest::newRow("other operator")
        << QByteArray("SELECT a FROM t WHERE a = 1") << QByteArray("SELECT a FROM t WHERE a > 1");
    QTest::newRow("one row vs several")
        << QByteArray("INSERT INTO t VALUES (1)") << QByteArray("INSERT INTO t VALUES (1), (2)");
    QTest::newRow("in literals vs in columns") << QByteArray("SELECT 1 FROM t WHERE a IN (1, 2)")
                                               << QByteArray("SELECT 1 FROM t WHERE a IN (b, c)");
    QTest::newRow("null vs literal") << QByteArray("SELECT a FROM t WHERE a = NULL")
                                     << QByteArray("SELECT a FROM t WHERE a = 0");
    QTest::newRow("backtick name vs string")
        << QByteArray("SELECT `a` FROM t") << QByteArray("SELECT 'a' FROM t");
    QTest::newRow("binary minus vs sign")
        << QByteArray("SELECT a - 1 FROM t") << QByteArray("SELECT a, -1 FROM t");
}

void TestSqlDigest::differentDigest()
{
    QFETCH(QByteArray, a);
    QFETCH(QByteArray, b);

    const StatementDigest da = digestStatement(view(a));
    const StatementDigest db = digestStatement(view(b));
    QVERIFY2(da.text != db.text, da.text.c_str());
    QVERIFY(da.hash != db.hash);
}

void TestSqlDigest::cutAtMaxText_data()
{
    QTest::addColumn<QByteArray>("sql");
    QTest::addColumn<int>("maxText");
    QTest::addColumn<QByteArray>("expected");

    // "SELECT é" is 9 bytes: S E L E C T space 0xC3 0xA9.
    QTest::newRow("fits exactly") << QByteArray("SELECT é") << 9 << QByteArray("SELECT é");
    QTest::newRow("inside a 2-byte char") << QByteArray("SELECT é") << 8 << QByteArray("SELECT");
    QTest::newRow("before a 2-byte char") << QByteArray("SELECT éa") << 7 << QByteArray("SELECT");
    QTest::newRow("inside a 3-byte char")
        << QByteArray("SELECT a€") << 10 << QByteArray("SELECT a");
    QTest::newRow("inside a 4-byte char 1")
        << QByteArray("SELECT a😀") << 9 << QByteArray("SELECT a");
    QTest::newRow("inside a 4-byte char 3")
        << QByteArray("SELECT a😀") << 11 << QByteArray("SELECT a");
    QTest::newRow("after a 4-byte char")
        << QByteArray("SELECT a😀 b") << 12 << QByteArray("SELECT a😀");
    QTest::newRow("on the separating space")
        << QByteArray("SELECT a, b") << 9 << QByteArray("SELECT a,");
    QTest::newRow("zero") << QByteArray("SELECT 1") << 0 << QByteArray();
    QTest::newRow("in a long in list") << QByteArray("SELECT a FROM t WHERE a IN (1,2,3,4,5,6)")
                                       << 30 << QByteArray("SELECT a FROM t WHERE a IN (..");
}

void TestSqlDigest::cutAtMaxText()
{
    QFETCH(QByteArray, sql);
    QFETCH(int, maxText);
    QFETCH(QByteArray, expected);

    const StatementDigest digest = digestStatement(view(sql), std::size_t(maxText));
    QCOMPARE(QByteArray::fromStdString(digest.text), expected);
    QVERIFY(digest.text.size() <= std::size_t(maxText));
    QVERIFY(validUtf8(QByteArray::fromStdString(digest.text)));
    QCOMPARE(digest.hash, fnv1a64(digest.text));
}

void TestSqlDigest::cutIsPrefixOfFullText()
{
    // A long statement of multibyte names: every cut is valid UTF-8, within the cap, and the
    // start of the uncut text.
    QByteArray sql("SELECT ");
    for (int i = 0; i < 400; ++i)
        sql += "é€😀" + QByteArray::number(i) + ", 'lit', ";
    sql += "x FROM t";
    const std::string full = digestStatement(view(sql), std::size_t(-1)).text;
    QVERIFY(full.size() > kMaxDigestText);
    for (std::size_t maxText = 0; maxText < 400; ++maxText) {
        const std::string cut = digestStatement(view(sql), maxText).text;
        QVERIFY(cut.size() <= maxText);
        QVERIFY(cut.size() + 4 >= maxText);
        QVERIFY(full.compare(0, cut.size(), cut) == 0);
        QVERIFY(validUtf8(QByteArray::fromStdString(cut)));
    }
    const StatementDigest capped = digestStatement(view(sql));
    QVERIFY(capped.text.size() <= kMaxDigestText);
    QVERIFY(capped.text.size() + 4 >= kMaxDigestText);
    QCOMPARE(capped.hash, fnv1a64(capped.text));
}

void TestSqlDigest::hashAndHex()
{
    // FNV-1a 64 test vectors (the text digests to itself).
    QCOMPARE(digestStatement("").hash, 0xCBF29CE484222325ULL);
    QCOMPARE(digestStatement("a").hash, 0xAF63DC4C8601EC8CULL);
    QCOMPARE(digestStatement("foobar").hash, 0x85944171F73967E8ULL);

    QCOMPARE(digestHex(0x85944171F73967E8ULL), QStringLiteral("0x85944171F73967E8"));
    QCOMPARE(digestHex(0x1ULL), QStringLiteral("0x0000000000000001"));
    QCOMPARE(digestHex(0), QStringLiteral("0x0000000000000000"));
    QCOMPARE(digestHex(~0ULL), QStringLiteral("0xFFFFFFFFFFFFFFFF"));
}

void TestSqlDigest::oddInputs_data()
{
    QTest::addColumn<QByteArray>("sql");

    QByteArray allBytes;
    for (int i = 0; i < 256; ++i)
        allBytes += char(i);
    QTest::newRow("every byte") << allBytes;
    QTest::newRow("invalid utf-8") << QByteArray("SELECT \xC3 \xFF\xFE `\x80` '\xE2\x82' a\xF0");
    QTest::newRow("nul only") << QByteArray(8, '\0');
    QTest::newRow("lone quote") << QByteArray("'");
    QTest::newRow("lone backtick") << QByteArray("`");
    QTest::newRow("lone at") << QByteArray("@");
    QTest::newRow("at then quote") << QByteArray("@'");
    QTest::newRow("lone dot") << QByteArray(".");
    QTest::newRow("lone minus") << QByteArray("-");
    QTest::newRow("minus minus") << QByteArray("- -");
    QTest::newRow("open comment") << QByteArray("/*");
    QTest::newRow("slash star slash") << QByteArray("/*/ 1");
    QTest::newRow("exponent cut") << QByteArray("SELECT 1e+");
    QTest::newRow("hex prefix only") << QByteArray("SELECT 0x");
    QTest::newRow("x quote cut") << QByteArray("SELECT x'");
    QTest::newRow("deep parens") << QByteArray(5000, '(');
    QTest::newRow("many closing parens") << QByteArray(5000, ')');
    QTest::newRow("values then closers") << QByteArray("VALUES (1), (2)))), (3");
    QTest::newRow("many signs") << QByteArray("SELECT ") + QByteArray(3000, '-') + "1";
}

void TestSqlDigest::oddInputs()
{
    QFETCH(QByteArray, sql);

    const StatementDigest digest = digestStatement(view(sql));
    QVERIFY(digest.text.size() <= kMaxDigestText);
    QCOMPARE(digest.hash, fnv1a64(digest.text));
    const std::string full = digestStatement(view(sql), std::size_t(-1)).text;
    if (full.size() <= kMaxDigestText) {
        QCOMPARE(digest.text, full);
        QCOMPARE(digestStatement(digest.text), digest);
    } else {
        QVERIFY(full.compare(0, digest.text.size(), digest.text) == 0);
    }
}

void TestSqlDigest::postgresText_data()
{
    QTest::addColumn<QByteArray>("sql");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("double quotes name") << QByteArray("SELECT \"My Col\" FROM \"t\" WHERE a = 1")
                                        << QByteArray("SELECT \"My Col\" FROM \"t\" WHERE a = ?");
    QTest::newRow("doubled quote in a name")
        << QByteArray("SELECT \"a\"\"b\" FROM t") << QByteArray("SELECT \"a\"\"b\" FROM t");
    QTest::newRow("parameters") << QByteArray("SELECT * FROM t WHERE id = $1 AND b=$12")
                                << QByteArray("SELECT * FROM t WHERE id = ? AND b = ?");
    QTest::newRow("dollar quotes")
        << QByteArray("SELECT $$it's$$, $fn$ body $$ not the end $$ $fn$, $a_1$x$a_1$")
        << QByteArray("SELECT ?, ?, ?");
    QTest::newRow("unterminated dollar quote")
        << QByteArray("SELECT $q$ never closed") << QByteArray("SELECT ?");
    QTest::newRow("no backslash escape in a standard string")
        << QByteArray("SELECT 'a\\', b, 'it''s'") << QByteArray("SELECT ?, b, ?");
    QTest::newRow("escape string")
        << QByteArray("SELECT E'a\\'b', e'\\\\', c") << QByteArray("SELECT ?, ?, c");
    QTest::newRow("unicode string and name")
        << QByteArray("SELECT U&'d\\0061t', U&\"d!0061t\" UESCAPE '!'")
        << QByteArray("SELECT ?, U&\"d!0061t\" UESCAPE ?");
    QTest::newRow("bit, hex and national strings")
        << QByteArray("SELECT B'101', x'1F', N'abc'") << QByteArray("SELECT ?, ?, ?");
    QTest::newRow("casts joined") << QByteArray("SELECT x :: int, '1'::text, $1::bigint, a.b::c")
                                  << QByteArray("SELECT x::int, ?::text, ?::bigint, a.b::c");
    QTest::newRow("cast with a type modifier")
        << QByteArray("SELECT v::numeric(10,2)") << QByteArray("SELECT v::numeric(?, ?)");
    QTest::newRow("hash is an operator") << QByteArray("SELECT a # b, c #> '{a}' FROM t")
                                         << QByteArray("SELECT a # b, c #> ? FROM t");
    QTest::newRow("operators read whole")
        << QByteArray("SELECT * FROM t WHERE j @> '{}' AND a->>'k' = 'v' AND x||y ~* 'p'")
        << QByteArray("SELECT * FROM t WHERE j @> ? AND a ->> ? = ? AND x || y ~* ?");
    QTest::newRow("sign after an operator") << QByteArray("SELECT * FROM t WHERE a=-1 OR b<>+2")
                                            << QByteArray("SELECT * FROM t WHERE a = ? OR b <> ?");
    QTest::newRow("nested comments")
        << QByteArray("SELECT /* a /* b */ still */ 1 /* x") << QByteArray("SELECT ?");
    QTest::newRow("dash comment needs no space")
        << QByteArray("SELECT 1 --x\nFROM t") << QByteArray("SELECT ? FROM t");
    QTest::newRow("in list of parameters") << QByteArray("SELECT * FROM t WHERE id IN ($1, $2, $3)")
                                           << QByteArray("SELECT * FROM t WHERE id IN (...)");
    QTest::newRow("values rows folded")
        << QByteArray("INSERT INTO \"T\" (a, b) VALUES ($1, 'x'), ($2, E'y')")
        << QByteArray("INSERT INTO \"T\"(a, b) VALUES (?, ?), ...");
    QTest::newRow("dollar inside a name")
        << QByteArray("SELECT a$1, b$x$ FROM t") << QByteArray("SELECT a$1, b$x$ FROM t");
    // Brackets: subscripts and slices after their operand, array constructors folded like IN.
    QTest::newRow("subscripts and slices")
        << QByteArray("SELECT arr [1], arr[2 : 3], arr[:n], m[1][-2], f(x)[1], $1[2] FROM t")
        << QByteArray("SELECT arr[?], arr[?:?], arr[:n], m[?][?], f(x)[?], ?[?] FROM t");
    QTest::newRow("colons kept apart where they would join")
        << QByteArray("SELECT a[: :=1], a[1: :x], f(a := 1, b => 2)")
        << QByteArray("SELECT a[: := ?], a[?: :x], f(a := ?, b => ?)");
    QTest::newRow("array constructor folded")
        << QByteArray("SELECT ARRAY[1,2,3], array[$1, -$2], ARRAY[[1,2],[3,4]], ARRAY[a, 1]")
        << QByteArray("SELECT ARRAY[...], array[...], ARRAY[[...], [...]], ARRAY[a, ?]");
    QTest::newRow("array types and any")
        << QByteArray("SELECT * FROM t WHERE id = ANY(ARRAY[1, 2]) AND t = ANY('{a}'::text[])")
        << QByteArray("SELECT * FROM t WHERE id = ANY(ARRAY[...]) AND t = ANY(?::text[])");
    // Casts on the items of an IN list.
    QTest::newRow("in list of cast parameters")
        << QByteArray("SELECT * FROM t WHERE id IN ($1::int, $2::int, $3::int)")
        << QByteArray("SELECT * FROM t WHERE id IN (...)");
    QTest::newRow("in list of cast literals")
        << QByteArray("SELECT * FROM t WHERE a IN (1::int, 2::bigint) AND b IN ('x'::varchar(10), "
                      "'y'::character varying, $1::text::name, $2::int[], 3::pg_catalog.int4)")
        << QByteArray("SELECT * FROM t WHERE a IN (...) AND b IN (...)");
    QTest::newRow("cast array constructor folded")
        << QByteArray("SELECT ARRAY[$1::int, $2::int], ARRAY['a'::text]")
        << QByteArray("SELECT ARRAY[...], ARRAY[...]");
    QTest::newRow("in list with a cast column or an array kept")
        << QByteArray("SELECT * FROM t WHERE a IN (b::int, 1) AND c IN (ARRAY[1]::int[], $1)")
        << QByteArray("SELECT * FROM t WHERE a IN (b::int, ?) AND c IN (ARRAY[...]::int[], ?)");
    // Operators holding ? (jsonb, geometry) stay whole; a lone ? reads as a placeholder.
    QTest::newRow("question mark operators")
        << QByteArray("SELECT d ?| ARRAY['a'], d?&ARRAY['b'], d @? '$.a', d ? 'k', l ?-| m FROM t")
        << QByteArray("SELECT d ?| ARRAY[...], d ?& ARRAY[...], d @? ?, d ? ?, l ?-| m FROM t");
    QTest::newRow("backtick is an operator byte")
        << QByteArray("SELECT a `x = 1` b") << QByteArray("SELECT a ` x = ? ` b");
    // Numbers as PostgreSQL 16 reads them.
    QTest::newRow("numbers")
        << QByteArray("SELECT 0o17, 0x1F, 0b101, 1_000_000, 1.5e-3, 0X_1f, 0O7, 0B1, 1_000.000_1, "
                      ".5_0, 1e1_0, 1_0E+1_0")
        << QByteArray("SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?");
    QTest::newRow("not numbers") << QByteArray("SELECT 1__0, 1_, 0b2, 0o8, 0x_ FROM t")
                                 << QByteArray("SELECT 1__0, 1_, 0b2, 0o8, 0x_ FROM t");
}

void TestSqlDigest::postgresText()
{
    QFETCH(QByteArray, sql);
    QFETCH(QByteArray, expected);

    const StatementDigest digest = digestStatement(view(sql), kMaxDigestText, SqlDialect::Postgres);
    QCOMPARE(QByteArray::fromStdString(digest.text), expected);
    QCOMPARE(digest.hash, fnv1a64(digest.text));
    QCOMPARE(digestStatement(digest.text, kMaxDigestText, SqlDialect::Postgres), digest);
}

void TestSqlDigest::postgresSameDigest()
{
    auto pg = [](const char* sql) {
        return digestStatement(sql, kMaxDigestText, SqlDialect::Postgres).text;
    };
    // The extended protocol's parameters and the literals of a simple query share a digest.
    QCOMPARE(pg("SELECT * FROM t WHERE a = $1 AND b = $2"),
             pg("SELECT * FROM t WHERE a = 'x' AND b = 42"));
    QCOMPARE(pg("SELECT $$a$$::text"), pg("SELECT E'b'::text"));
    // What reads differently in the two dialects.
    QCOMPARE(digestStatement("SELECT \"a\"").text, std::string("SELECT ?"));
    QCOMPARE(pg("SELECT \"a\""), std::string("SELECT \"a\""));
    QCOMPARE(digestStatement("SELECT 1 # x").text, std::string("SELECT ?"));
    QCOMPARE(pg("SELECT 1 # x"), std::string("SELECT ? # x"));
    QCOMPARE(digestStatement("SELECT 'a\\', b").text, std::string("SELECT ?"));
    QCOMPARE(pg("SELECT 'a\\', b"), std::string("SELECT ?, b"));
}

void TestSqlDigest::postgresLinearOnOperatorRuns()
{
    // A run of signs is cut to one operator and the signs after it, each scanned once: 1 MB of
    // them must not cost 10^12 steps (the unit test's time limit would catch that).
    auto pg = [](const QByteArray& sql) {
        return QByteArray::fromStdString(
            digestStatement(view(sql), kMaxDigestText, SqlDialect::Postgres).text);
    };
    const QByteArray plus(1 << 20, '+');
    QByteArray alternating;
    for (int i = 0; i < (1 << 19); ++i)
        alternating += "+-";
    QCOMPARE(pg("SELECT 1" + plus + "1"), QByteArray("SELECT ? + ?"));
    QCOMPARE(pg("SELECT 1" + alternating + "1"), QByteArray("SELECT ? + ?"));
    QCOMPARE(pg("SELECT a" + plus + "@ b").size(), qsizetype(kMaxDigestText));
    QCOMPARE(pg("SELECT a" + plus).left(14), QByteArray("SELECT a + + +"));
}

void TestSqlDigest::idempotentOnRandomSoup()
{
    // Statements glued from fragments that exercise the rules where they meet (signs after
    // dots, ellipses beside dots, rows after VALUES, comments between anything), fixed seed.
    static const std::string_view fragments[] = {
        "SELECT",
        "select",
        "FROM",
        "WHERE",
        "IN",
        "in",
        "NOT",
        "VALUES",
        "value",
        "AND",
        "t",
        "t1",
        "col_2",
        "1abc",
        "`q`",
        "`a b`",
        "`",
        "@v",
        "@@g",
        "@'x'",
        "@",
        "0",
        "12",
        "1.5",
        ".5",
        "1e",
        "1e5",
        "e",
        "0x1F",
        "x'ab'",
        "b'1'",
        "N'n'",
        "'s'",
        "'it''s",
        "\"d\"",
        "'\\'",
        "?",
        "...",
        "..",
        ".",
        "(",
        ")",
        ",",
        ";",
        "-",
        "+",
        "--",
        "-- ",
        "#",
        "\n",
        "/*",
        "*/",
        "*",
        "/",
        "=",
        "<=>",
        "->>",
        "->",
        ">",
        "!",
        ":=",
        "NULL",
        "é",
        "😀",
        "\xC3",
        {"\0", 1},
        "\t",
        " ",
        " ",
        " ",
        " ",
        "5",
        "(1,2)",
        "(?)",
        "IN (",
        ", (",
        // Postgres: parameters, dollar quotes, casts, escape strings, operators, nesting.
        "$1",
        "$",
        "$$",
        "$a$",
        "$a",
        "::",
        ":",
        "E'\\''",
        "e'",
        "U&'",
        "U&\"",
        "u&",
        "#>",
        "@>",
        "||/",
        "=-",
        "~*",
        "/* /*",
        "B'0'",
        "-+",
        "!=-",
        "[",
        "]",
        "ARRAY[",
        "array",
        "?|",
        "@?",
        "?",
        "`",
        "0o17",
        "0x_1F",
        "1_000",
        "1_",
        "::int",
        "::int[]",
        "::numeric(1,2)",
        "::double precision",
        "(1::int",
        "1:2",
        ":=",
        "=:",
        "++--",
    };
    constexpr std::size_t count = sizeof(fragments) / sizeof(fragments[0]);
    std::mt19937_64 random(20240611);
    for (int round = 0; round < 20000; ++round) {
        std::string sql;
        const int pieces = int(random() % 24) + 1;
        for (int i = 0; i < pieces; ++i)
            sql += fragments[random() % count];
        for (SqlDialect dialect : {SqlDialect::MySql, SqlDialect::Postgres}) {
            const StatementDigest once = digestStatement(sql, kMaxDigestText, dialect);
            QCOMPARE(once.hash, fnv1a64(once.text));
            const StatementDigest twice = digestStatement(once.text, kMaxDigestText, dialect);
            if (twice.text != once.text)
                QFAIL(QByteArray("not idempotent: [" + QByteArray::fromStdString(sql) + "] -> [" +
                                 QByteArray::fromStdString(once.text) + "] -> [" +
                                 QByteArray::fromStdString(twice.text) + "]")
                          .constData());
        }
    }
}

// Speed is the benchmark's business, not this test's: a quadratic pass over these would run
// into the test's timeout long before it passed.
void TestSqlDigest::hugeInputFolds()
{
    // A 4 MB IN list and a 4 MB VALUES insert: folded to a few bytes.
    QByteArray in("SELECT * FROM t WHERE id IN (");
    QByteArray values("INSERT INTO t VALUES ");
    for (int i = 0; i < 400000; ++i) {
        in += "1234567,";
        values += "(1,'a'),";
    }
    in += "1)";
    values += "(2,'b')";
    QCOMPARE(digestText(in), QByteArray("SELECT * FROM t WHERE id IN (...)"));
    QCOMPARE(digestText(values), QByteArray("INSERT INTO t VALUES (?, ?), ..."));
    // Past maxText the rest is not read: a huge statement costs no more than its start.
    QByteArray huge("SELECT ");
    for (int i = 0; i < 4000000; ++i)
        huge += "a,";
    QCOMPARE(digestText(huge, 16), QByteArray("SELECT a, a, a,"));
}

QTEST_GUILESS_MAIN(TestSqlDigest)
#include "tst_sqldigest.moc"
