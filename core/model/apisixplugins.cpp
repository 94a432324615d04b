#include "model/apisixplugins.h"

#include <QSet>
#include <QStringList>

namespace sg {

namespace {

QSet<QString> nameSet(const QString& names)
{
    const QStringList list = names.split(u' ', Qt::SkipEmptyParts);
    return QSet<QString>(list.begin(), list.end());
}

// apisix/cli/config.lua `plugins`, sorted.
const QSet<QString>& httpPlugins()
{
    static const QSet<QString> names = nameSet(QStringLiteral(
        "acl ai ai-aliyun-content-moderation ai-aws-content-moderation ai-cache "
        "ai-lakera-guard ai-prompt-decorator ai-prompt-guard ai-prompt-template ai-proxy "
        "ai-proxy-multi ai-rag ai-rate-limiting ai-request-rewrite api-breaker "
        "attach-consumer-label authz-casbin authz-casdoor authz-keycloak aws-lambda "
        "azure-functions basic-auth body-transformer cas-auth chaitin-waf clickhouse-logger "
        "client-control consumer-restriction cors csrf data-mask datadog degraphql "
        "dingtalk-auth echo elasticsearch-logger example-plugin ext-plugin-post-req "
        "ext-plugin-post-resp ext-plugin-pre-req fault-injection feishu-auth file-logger "
        "forward-auth google-cloud-logging graphql-limit-count graphql-proxy-cache "
        "grpc-transcode grpc-web gzip hmac-auth http-dubbo http-logger inspect "
        "ip-restriction jwe-decrypt jwt-auth kafka-logger kafka-proxy key-auth lago "
        "ldap-auth ldap-auth-advanced limit-conn limit-count limit-req loggly loki-logger "
        "mcp-bridge mocking multi-auth oas-validator opa openfunction openid-connect "
        "openwhisk prometheus proxy-buffering proxy-cache proxy-control proxy-mirror "
        "proxy-rewrite public-api real-ip redirect referer-restriction request-id "
        "request-validation response-rewrite rocketmq-logger saml-auth "
        "serverless-post-function serverless-pre-function skywalking-logger sls-logger "
        "splunk-hec-logging syslog tcp-logger tencent-cloud-cls traffic-label traffic-split "
        "ua-restriction udp-logger uri-blocker wolf-rbac workflow zipkin"));
    return names;
}

// apisix/cli/config.lua `stream_plugins`.
const QSet<QString>& streamPlugins()
{
    static const QSet<QString> names =
        nameSet(QStringLiteral("ip-restriction limit-conn mqtt-proxy syslog traffic-split"));
    return names;
}

// Shipped, but off in the default config (commented out in conf/config.yaml.example, or
// deprecated).
const QSet<QString>& disabledPlugins()
{
    static const QSet<QString> names = nameSet(QStringLiteral(
        "batch-requests brotli dubbo-proxy error-log-logger error-page exit-transformer gm "
        "log-rotate node-status ocsp-stapling opentelemetry server-info skywalking"));
    return names;
}

} // namespace

bool isApisixHttpPlugin(const QString& name)
{
    return httpPlugins().contains(name);
}

bool isApisixStreamPlugin(const QString& name)
{
    return streamPlugins().contains(name);
}

bool isApisixPlugin(const QString& name)
{
    return isApisixHttpPlugin(name) || isApisixStreamPlugin(name) ||
           disabledPlugins().contains(name);
}

} // namespace sg
