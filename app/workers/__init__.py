"""Background work: the job runner and the expiry sweeper. Imports services, never routers."""
