import { redirect } from "next/navigation";
import TodoApp from "@/components/TodoApp";
import { apiUrlFromEnv } from "@/lib/env";
import { currentSession } from "@/lib/session";

export const dynamic = "force-dynamic";

export default async function TodoPage() {
  const session = await currentSession();
  if (!session) redirect("/sign-in");
  return (
    <TodoApp
      apiUrl={apiUrlFromEnv()}
      user={{ id: session.user.id, name: session.user.name, email: session.user.email }}
    />
  );
}
