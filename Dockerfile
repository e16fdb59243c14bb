# Kalata web process (and, from the SMS issue on, the worker) for docker compose.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# ffmpeg converts the voice line's recorded prompts (published folders, console uploads) to what AT plays.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Exactly the lock file (npm ci), without the dev dependencies (NODE_ENV=production).
# The image's npm 10 runs install scripts; npm 11 runs only those approved in
# package.json's allowScripts.
RUN npm ci --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY flows ./flows
COPY locales ./locales
# The processes run JavaScript built from src/ (npm run build): without tsx's
# loader thread a web process holds about 40 MB less.
RUN npm run build
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:3000/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# The old-space cap keeps a web process near 150 MB under load (V8 otherwise grows
# its heap lazily); its live data is about 40 MB. Same flags as `npm run start:web`.
CMD ["node", "--max-old-space-size=128", "--enable-source-maps", "dist/src/main/web.js"]
