/** Operators' pages, outside the API: they need an admin key like /api's admin routes. */
export const ADMIN_PREFIX = '/admin';
/** The queue dashboard (bull-board). */
export const QUEUE_DASHBOARD_PATH = `${ADMIN_PREFIX}/queues`;
