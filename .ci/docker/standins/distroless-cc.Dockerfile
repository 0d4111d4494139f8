# CI stand-in (no container registry is reachable here) for
# `gcr.io/distroless/cc-debian12:nonroot`: no shell, no package manager; the
# files of Debian 12's libc6, libgcc-s1, libstdc++6, libgomp1, libssl3,
# base-files, netbase and tzdata, the CA bundle, and the user `nonroot`
# (65532) as the default user. Built by .ci/docker/standins.sh only when no
# image of that name exists; a user with a registry gets the real image.
FROM todo-ci-standin/debian:bookworm AS files
WORKDIR /tmp/debs
RUN apt-get update \
    && apt-get download libc6 libgcc-s1 libstdc++6 libgomp1 libssl3 base-files netbase tzdata \
    && mkdir /rootfs \
    && for deb in ./*.deb; do dpkg-deb -x "$deb" /rootfs; done \
    && rm -rf /rootfs/usr/share/doc /rootfs/usr/share/man /rootfs/usr/share/lintian /rootfs/usr/share/info \
    && mkdir -p /rootfs/etc/ssl/certs /rootfs/home/nonroot /rootfs/root /rootfs/tmp \
    && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
    && printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
         'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
         'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' > /rootfs/etc/passwd \
    && printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' > /rootfs/etc/group \
    && chown 65532:65532 /rootfs/home/nonroot && chmod 700 /rootfs/home/nonroot /rootfs/root \
    && chmod 1777 /rootfs/tmp \
    && rm -rf /var/lib/apt/lists/*

FROM scratch
LABEL todo.ci.standin="gcr.io/distroless/cc-debian12:nonroot"
COPY --from=files /rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532
WORKDIR /home/nonroot
