# Guild server image: the same code runs the web role and the delivery worker role.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY bin ./bin
COPY config ./config
COPY src ./src
COPY tsconfig.json ./
ENV NODE_ENV=production GUILD_HOST=0.0.0.0 GUILD_PORT=8080
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
CMD ["node", "--import", "tsx", "src/main.ts"]
