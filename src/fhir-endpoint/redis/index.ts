export { RedisResourceIndex, type RedisResourceIndexOptions } from './redis-resource-index.js';
export { DEFAULT_PREFIX, IndexKeys, indexBase } from './keys.js';
