"""Usage and quotas per tenant: what each tenant used per UTC day and model
(`meter`, `store`), read back by ``GET /usage`` (`service`, `routes`), and the limits an
operator sets on it (`limits`), enforced the same on every API process (`quotas`,
`streams`), refused with OpenAI's 429 (`refusals`)."""
