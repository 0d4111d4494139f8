import { redirect } from "next/navigation";
import AuthForm from "@/components/AuthForm";
import { currentSession } from "@/lib/session";

export const dynamic = "force-dynamic";

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  if (await currentSession()) redirect("/");
  const params = await searchParams;
  const notice =
    params.expired !== undefined
      ? "Your session has expired. Please sign in again."
      : params.signedOut !== undefined
        ? "You have been signed out."
        : undefined;
  return <AuthForm mode="sign-in" notice={notice} />;
}
