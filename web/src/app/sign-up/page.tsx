import { redirect } from "next/navigation";
import AuthForm from "@/components/AuthForm";
import { currentSession } from "@/lib/session";

export const dynamic = "force-dynamic";

export default async function SignUpPage() {
  if (await currentSession()) redirect("/");
  return <AuthForm mode="sign-up" />;
}
