# CI stand-in (no container registry is reachable here) for the official
# `prom/prometheus:v2.55.1`: Debian's prometheus (trixie: 2.53, the same
# HTTP API and configuration format) laid out as the official image is:
# /bin/prometheus and /bin/promtool, the configuration at
# /etc/prometheus/prometheus.yml, the console directories under
# /usr/share/prometheus, the data in the volume /prometheus (also the working
# directory), user nobody, port 9090, the same entrypoint and default flags.
# The official image is busybox-based, so health checks call `wget`: GNU wget
# here (the same `-q -O FILE URL`). Built by .ci/docker/standins.sh only when
# no image of that name exists; a user with a registry gets the real image.
FROM todo-ci-standin/debian:trixie
ARG TAG
LABEL todo.ci.standin="${TAG}"
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus wget \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /usr/share/prometheus /prometheus \
    && ln -s /etc/prometheus/console_libraries /usr/share/prometheus/console_libraries \
    && ln -s /etc/prometheus/consoles /usr/share/prometheus/consoles \
    && chown -R nobody:nogroup /etc/prometheus /prometheus
USER nobody
EXPOSE 9090
VOLUME ["/prometheus"]
WORKDIR /prometheus
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", \
     "--storage.tsdb.path=/prometheus", \
     "--web.console.libraries=/usr/share/prometheus/console_libraries", \
     "--web.console.templates=/usr/share/prometheus/consoles"]
