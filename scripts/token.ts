import { parseArgs } from 'node:util';
import { tierNameSchema } from '#core/tiers.js';
import { localJwtSecret } from '#local/dev-secret.js';
import { mintToken } from '#local/mint-token.js';

/** `npm run -s token -- --user <id> --tier <free|pro|enterprise>`: prints a dev JWT. */
const { values } = parseArgs({
  options: {
    user: { type: 'string', default: 'dev-user' },
    tier: { type: 'string', default: 'free' },
    ttl: { type: 'string', default: String(12 * 3600) },
  },
});
const tier = tierNameSchema.safeParse(values.tier);
const ttl = Number(values.ttl);
if (!tier.success || !Number.isInteger(ttl) || ttl <= 0) {
  process.stderr.write(
    'usage: npm run -s token -- --user <id> --tier <free|pro|enterprise> [--ttl <seconds>]\n',
  );
  process.exit(2);
}
process.stdout.write(`${await mintToken(localJwtSecret(), values.user, tier.data, ttl)}\n`);
