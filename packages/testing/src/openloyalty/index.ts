// createOpenLoyaltyServer lives here (issue 3).
export {};
