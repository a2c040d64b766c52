# perfloop GitHub App (Probot). Build: docker build -t perfloop-app .
# Run:   docker run -p 3000:3000 -e APP_ID=… -e PRIVATE_KEY="$(cat key.pem)" -e WEBHOOK_SECRET=… perfloop-app
# Node 24 runs the TypeScript sources directly (type stripping); no build step.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; no install scripts run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
# HOST=0.0.0.0 on purpose: the App listens on 127.0.0.1 unless HOST is set (src/app/env.ts), and
# inside a container loopback is unreachable through the published port.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    LOG_FORMAT=json
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json app.yml ./
COPY src ./src
# The App never runs repository code; it still runs unprivileged.
USER node
EXPOSE 3000
# Probot answers GET /ping with PONG.
HEALTHCHECK --interval=30s --timeout=3s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/ping').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Refuses to start without WEBHOOK_SECRET (NODE_ENV=production), APP_ID or PRIVATE_KEY.
CMD ["node", "src/app/main.ts"]
