"""The platform kernel every context uses: database, auth, audit chain, clock, crypto, jobs."""
