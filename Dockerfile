# Freshet in a small container: build the single binary with Bun, run it on a slim base as a non-root user.
# (No Docker engine runs in this project's CI; CI builds and smoke-tests the same binary with `npm run build`.)

FROM node:20-bookworm AS build
WORKDIR /src
# python3, make and g++ (in this image) build the native addons (sse4_crc32, zstd-napi) during npm ci.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM debian:bookworm-slim
# The binary links glibc and libstdc++ (the native addons); bookworm-slim has both.
RUN useradd --system --uid 10001 --home-dir /data freshet \
 && mkdir -p /data && chown freshet /data
COPY --from=build /src/dist/freshet /usr/local/bin/freshet
USER freshet
VOLUME /data
# Inside a container the broker must listen on all interfaces to be reachable through published ports.
ENV FRESHET_DATA_DIR=/data FRESHET_HOST=0.0.0.0 FRESHET_HTTP_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["freshet", "topics", "list", "--url", "http://127.0.0.1:8080"]
ENTRYPOINT ["freshet", "broker"]
