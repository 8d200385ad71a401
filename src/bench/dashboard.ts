export async function benchDashboard(_rounds: number): Promise<void> {
  console.log('  (pending)');
}
