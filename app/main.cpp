// Streamgate entry point: parses the command line, then runs one of --check, --headless or the
// GUI. Only wiring lives here; everything it runs is in core/ and ui/.
#include "api/adminserver.h"
#include "api/controlapi.h"
#include "api/prometheus.h"
#include "api/toxiproxyapi.h"
#include "config/apisixyaml.h"
#include "config/configstore.h"
#include "config/developmentca.h"
#include "config/keyfile.h"
#include "config/logging.h"
#include "instancechannel.h"
#include "mainwindow.h"
#include "proxy/engine.h"
#include "runtime/accesslogwriter.h"
#include "runtime/allowexpiry.h"
#include "runtime/headlessrunner.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QTextStream>
#include <cstdio>
#include <memory>
#include <unistd.h>

namespace {

// Exit codes of --check (documented in --help): 0 valid, 1 invalid, 2 unreadable.
constexpr int ExitValid = 0;
constexpr int ExitInvalid = 1;
constexpr int ExitUnreadable = 2;
constexpr int ExitUsage = 64; // BSD sysexits EX_USAGE: distinct from every --check outcome
constexpr int ExitInUse = 75; // EX_TEMPFAIL: another Streamgate owns the config

// One writer per config: the lock is taken before the file is read, so two instances never
// both believe they own it. False (and said on stderr and in the log) when another one does;
// with askOwnerToShow, when that one has a window, it is brought forward instead and *shown is
// set.
bool lockConfig(sg::ConfigStore& store, bool askOwnerToShow = false, bool* shown = nullptr)
{
    const sg::Problems problems = store.lockFile();
    if (problems.isEmpty())
        return true;
    if (askOwnerToShow) {
        if (const qint64 pid = sg::InstanceChannel::askToShow(store.path())) {
            qCInfo(sg::lcConfig).noquote()
                << "Streamgate already runs on" << store.path()
                << QStringLiteral("(pid %1): its window was brought forward").arg(pid);
            *shown = true;
            return false;
        }
    }
    qCCritical(sg::lcConfig).noquote() << formatProblems(problems);
    return false;
}

struct Options
{
    QCommandLineOption config{
        {QStringLiteral("c"), QStringLiteral("config")},
        QStringLiteral("Use config FILE instead of %1.").arg(sg::ConfigStore::defaultPath()),
        QStringLiteral("FILE")};
    QCommandLineOption headless{QStringLiteral("headless"),
                                QStringLiteral("Run the proxy without a window.")};
    QCommandLineOption check{QStringLiteral("check"),
                             QStringLiteral("Validate the config file, print every problem and "
                                            "exit: 0 valid, 1 invalid, 2 unreadable.")};
    QCommandLineOption version{{QStringLiteral("v"), QStringLiteral("version")},
                               QStringLiteral("Print the version and exit.")};
    QCommandLineOption help{{QStringLiteral("h"), QStringLiteral("help")},
                            QStringLiteral("Print this help and exit.")};
    QCommandLineOption exportApisix{QStringLiteral("export-apisix"),
                                    QStringLiteral("Write apisix.yaml and config-stream.yaml "
                                                   "(APISIX standalone mode) into DIR and exit."),
                                    QStringLiteral("DIR")};
    QCommandLineOption importApisix{QStringLiteral("import-apisix"),
                                    QStringLiteral("Replace the config's routes and upstreams with "
                                                   "those of an APISIX standalone FILE and exit."),
                                    QStringLiteral("FILE")};
    QCommandLineOption exportDevCa{QStringLiteral("export-dev-ca"),
                                   QStringLiteral("Write the certificate of the development CA "
                                                  "that database TLS presents (made first when "
                                                  "there is none) to FILE and exit."),
                                   QStringLiteral("FILE")};
    QCommandLineOption adminListen{QStringLiteral("admin-listen"),
                                   QStringLiteral("Admin API address (default 127.0.0.1:9180)."),
                                   QStringLiteral("ADDR")};
    QCommandLineOption adminKey{QStringLiteral("admin-key"),
                                QStringLiteral("Admin API key for this run (not saved). Other "
                                               "users see it in ps: prefer --admin-key-file or "
                                               "STREAMGATE_ADMIN_KEY."),
                                QStringLiteral("KEY")};
    QCommandLineOption adminKeyFile{QStringLiteral("admin-key-file"),
                                    QStringLiteral("Read the admin API key for this run from the "
                                                   "first line of FILE (not saved)."),
                                    QStringLiteral("FILE")};

    void addTo(QCommandLineParser& parser) const
    {
        parser.setApplicationDescription(QStringLiteral(
            "Streamgate: a desktop TCP/UDP stream proxy with APISIX stream routes."));
        parser.addOptions({config, headless, check, version, help, exportApisix, importApisix,
                           exportDevCa, adminListen, adminKey, adminKeyFile});
    }
};

QStringList argumentsOf(int argc, char* argv[])
{
    QStringList args;
    args.reserve(argc);
    for (int i = 0; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);
    return args;
}

QString plural(qsizetype n, const char* one, const char* many)
{
    return QStringLiteral("%1 %2").arg(n).arg(QLatin1String(n == 1 ? one : many));
}

// "path: reason", plus the value when the reason does not already show it, so every line names
// the field, the value and why.
QString problemLine(const sg::Problem& p)
{
    QString line = p.text();
    if (!p.value.isEmpty() && !p.reason.contains(p.value))
        line += QStringLiteral(" (value: %1)").arg(p.value);
    return line;
}

// The admin key for this run, from (in this order) --admin-key, --admin-key-file or the
// STREAMGATE_ADMIN_KEY environment variable; none of them: the config's key or the generated
// one beside it. False with *error set when a key file cannot be used.
bool adminOptionsFrom(const QCommandLineParser& parser, const Options& options,
                      sg::AdminOptions* admin, QString* error)
{
    admin->listen = parser.value(options.adminListen);
    if (parser.isSet(options.adminKey)) {
        qCWarning(sg::lcApi) << "--admin-key shows the key to every user of this machine (ps, "
                                "/proc); use --admin-key-file FILE or STREAMGATE_ADMIN_KEY";
        admin->key = parser.value(options.adminKey);
    } else if (parser.isSet(options.adminKeyFile)) {
        const sg::KeyFileResult file = sg::readKeyFile(parser.value(options.adminKeyFile));
        if (!file.ok) {
            *error = file.message;
            return false;
        }
        admin->key = file.key;
    } else {
        admin->key = qEnvironmentVariable("STREAMGATE_ADMIN_KEY").trimmed();
    }
    return true;
}

int runCheck(const QString& path)
{
    const sg::FileCheck result = sg::checkFile(path);
    QTextStream out(stdout);
    for (const sg::Problem& p : result.problems)
        out << problemLine(p) << '\n';
    for (const sg::Problem& w : result.warnings)
        out << "warning: " << problemLine(w) << '\n';

    switch (result.status) {
    case sg::LoadResult::Status::Loaded:
    case sg::LoadResult::Status::Created:
        out << path << ": valid ("
            << plural(result.config.streamRoutes.size(), "stream route", "stream routes") << ", "
            << plural(result.config.upstreams.size(), "upstream", "upstreams") << ", "
            << plural(sg::singlePorts(result.config.streamProxy.tcp).size() +
                          sg::singlePorts(result.config.streamProxy.udp).size(),
                      "listener", "listeners")
            << ", " << plural(result.warnings.size(), "warning", "warnings") << ")\n";
        return ExitValid;
    case sg::LoadResult::Status::SyntaxError:
    case sg::LoadResult::Status::Invalid:
        out << path << ": invalid (" << plural(result.problems.size(), "problem", "problems")
            << ", " << plural(result.warnings.size(), "warning", "warnings") << ")\n";
        return ExitInvalid;
    case sg::LoadResult::Status::Unreadable:
        break;
    }
    out << path << ": unreadable\n";
    return ExitUnreadable;
}

// --export-dev-ca FILE: the development CA's certificate, for a database client to trust.
int exportDevelopmentCa(const QString& configPath, const QString& file)
{
    sg::DevelopmentCa ca(sg::DevelopmentCa::directoryFor(configPath));
    if (const QString error = ca.exportCertificate(file); !error.isEmpty()) {
        QTextStream(stderr) << "streamgate: " << error << "\n";
        return 1;
    }
    QTextStream(stdout) << "wrote the development CA's certificate (" << ca.caCertificatePath()
                        << ") to " << file << "\n";
    return 0;
}

// The engine as the application runs it: the nodes of its upstreams are probed, so a route
// whose upstream does not answer says so (proxy/upstreamprober.h), and who each client is
// is found out (stats/clientresolver.h).
// Its development CA for database TLS lives beside the config (config/developmentca.h).
sg::EngineOptions appEngineOptions(const QString& configPath)
{
    sg::EngineOptions options;
    options.probeUpstreams = true;
    options.resolveClients = true;
    options.developmentCaDir = sg::DevelopmentCa::directoryFor(configPath);
    return options;
}

// The store drives the engine: every accepted change (form, admin API, file reload) is applied
// live, and the engine computes what actually changed.
void driveEngine(sg::ConfigStore& store, sg::Engine& engine)
{
    engine.apply(store.config());
    QObject::connect(
        &store, &sg::ConfigStore::changed, &engine,
        [&engine](const sg::ConfigDiff&, const sg::Config& config) { engine.apply(config); });
}

// The admin API, the metrics, the Toxiproxy API and the control API serve every mode that runs
// the engine.
struct Servers
{
    Servers(sg::ConfigStore& store, sg::Engine& engine, sg::AllowExpiry& allows,
            const sg::AdminOptions& options)
        : admin(&store, &engine), metrics(&store, &engine), toxiproxy(&store, &engine),
          control(&store, &engine)
    {
        admin.setAllowExpiry(&allows);
        if (!admin.start(options))
            qCCritical(sg::lcApi).noquote() << admin.errorString();
        if (!metrics.start())
            qCWarning(sg::lcApi).noquote() << metrics.errorString();
        if (!toxiproxy.start())
            qCWarning(sg::lcApi).noquote() << toxiproxy.errorString();
        if (!control.start())
            qCWarning(sg::lcApi).noquote() << control.errorString();
    }
    sg::AdminServer admin;
    sg::MetricsServer metrics;
    sg::ToxiproxyApi toxiproxy;
    sg::ControlApi control;
};

int runHeadless(const QString& path, const sg::AdminOptions& adminOptions)
{
    sg::ConfigStore store(path);
    if (!lockConfig(store))
        return ExitInUse;
    const sg::LoadResult loaded = store.load(); // problems are logged under streamgate.config
    if (!loaded.ok()) {
        qCCritical(sg::lcConfig).noquote() << "cannot start without a valid config:" << path;
        return loaded.status == sg::LoadResult::Status::Unreadable ? ExitUnreadable : ExitInvalid;
    }

    sg::Engine engine(appEngineOptions(store.path()));
    QFile out;
    // On the descriptor, not on stdio's FILE: a pipe must see each line as it is written.
    out.open(STDOUT_FILENO, QIODevice::WriteOnly | QIODevice::Unbuffered);
    sg::AccessLogWriter accessLog(&engine, &out);
    accessLog.follow(&store); // streamgate.access_log, live
    driveEngine(store, engine);
    // Timed allows end headless too; those left by a run that did not quit cleanly end now.
    sg::AllowExpiry allows(&store, &engine);
    Servers servers(store, engine, allows, adminOptions);

    store.watchFile();
    sg::HeadlessRunner runner(&store, &engine);
    QObject::connect(&runner, &sg::HeadlessRunner::finished, QCoreApplication::instance(),
                     &QCoreApplication::exit); // not qApp: it would downcast to QApplication
    runner.start();
    const int code = QCoreApplication::exec();
    allows.endSessionAccess(); // a clean stop ends the allows "until Streamgate quits"
    accessLog.poll();          // sessions that ended during the grace period, and those ends
    return code;
}

int runGui(const QString& path, const sg::AdminOptions& adminOptions)
{
    sg::ConfigStore store(path);
    bool shown = false;
    if (!lockConfig(store, true, &shown))
        return shown ? 0 : ExitInUse; // said on stderr: a message box would wait for a click
    // A second launch on this config brings this window forward (see InstanceChannel).
    sg::InstanceChannel launches;
    if (const QString error = launches.listen(store.path()); !error.isEmpty())
        qCWarning(sg::lcConfig).noquote()
            << "a second launch on this config will not find this window:" << error;
    // A broken file leaves the store empty and refusing changes; the window reads
    // store.lastLoadResult() to say why and offer the backup.
    store.load();

    sg::Engine engine(appEngineOptions(store.path()));
    driveEngine(store, engine);
    sg::AllowExpiry allows(&store, &engine); // the window's Allow and the admin API share it
    Servers servers(store, engine, allows, adminOptions);

    store.watchFile(); // a hand edit of the file applies with the window open, as headless
    sg::MainWindow window(&store, &engine, nullptr, &allows);
    QObject::connect(&launches, &sg::InstanceChannel::showRequested, &window, [&] {
        window.bringToFront();
        engine.recordOperatorEvent(
            QString(), QStringLiteral("Streamgate was started again on this config: this window "
                                      "was brought forward instead"));
    });
    window.show();
    return QApplication::exec();
}

} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication::setApplicationName(QStringLiteral("streamgate"));
    QCoreApplication::setOrganizationName(QStringLiteral("streamgate"));
    QCoreApplication::setApplicationVersion(QStringLiteral(STREAMGATE_VERSION));

    // The mode must be known before the application object exists: only the GUI may have a
    // QApplication (it needs a display), so parse once without one. Qt's own GUI options
    // (-platform, -style, ...) are unknown here; they are checked again after QApplication has
    // removed them.
    const Options options;
    QCommandLineParser parser;
    options.addTo(parser);
    const bool parsed = parser.parse(argumentsOf(argc, argv));
    const bool coreOnly = parser.isSet(options.check) || parser.isSet(options.version) ||
                          parser.isSet(options.help) || parser.isSet(options.headless) ||
                          parser.isSet(options.exportApisix) ||
                          parser.isSet(options.importApisix) || parser.isSet(options.exportDevCa);

    if (coreOnly) {
        QCoreApplication app(argc, argv);
        if (!parsed) {
            QTextStream(stderr) << "streamgate: " << parser.errorText() << "\n"
                                << "Try 'streamgate --help'.\n";
            return ExitUsage;
        }
        if (!parser.positionalArguments().isEmpty()) {
            QTextStream(stderr) << "streamgate: unexpected argument '"
                                << parser.positionalArguments().constFirst() << "'\n"
                                << "Try 'streamgate --help'.\n";
            return ExitUsage;
        }
        if (parser.isSet(options.help)) {
            QTextStream(stdout) << parser.helpText();
            return 0;
        }
        if (parser.isSet(options.version)) {
            QTextStream(stdout) << "streamgate " << QCoreApplication::applicationVersion() << "\n";
            return 0;
        }
        const QString path = parser.isSet(options.config) ? parser.value(options.config)
                                                          : sg::ConfigStore::defaultPath();
        if (parser.isSet(options.check))
            return runCheck(path);
        if (parser.isSet(options.exportApisix))
            return sg::exportApisixCommand(path, parser.value(options.exportApisix));
        if (parser.isSet(options.importApisix))
            return sg::importApisixCommand(path, parser.value(options.importApisix));
        if (parser.isSet(options.exportDevCa))
            return exportDevelopmentCa(path, parser.value(options.exportDevCa));
        sg::AdminOptions admin;
        QString error;
        if (!adminOptionsFrom(parser, options, &admin, &error)) {
            QTextStream(stderr) << "streamgate: " << error << "\n";
            return ExitUsage;
        }
        return runHeadless(path, admin);
    }

    QApplication app(argc, argv);
    QCommandLineParser guiParser;
    options.addTo(guiParser);
    if (!guiParser.parse(QCoreApplication::arguments()) ||
        !guiParser.positionalArguments().isEmpty()) {
        const QString error = guiParser.errorText().isEmpty()
                                  ? QStringLiteral("unexpected argument '%1'")
                                        .arg(guiParser.positionalArguments().constFirst())
                                  : guiParser.errorText();
        QTextStream(stderr) << "streamgate: " << error << "\nTry 'streamgate --help'.\n";
        return ExitUsage;
    }
    const QString path = guiParser.isSet(options.config) ? guiParser.value(options.config)
                                                         : sg::ConfigStore::defaultPath();
    sg::AdminOptions admin;
    QString error;
    if (!adminOptionsFrom(guiParser, options, &admin, &error)) {
        QTextStream(stderr) << "streamgate: " << error << "\n";
        return ExitUsage;
    }
    return runGui(path, admin);
}
